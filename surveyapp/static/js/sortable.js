// Click-to-sort for tables marked data-sortable: progressive enhancement. Without this script
// the table is a plain table in its server order. With it, each column header becomes a
// button (reachable with Tab, pressed with Enter or Space); pressing it sorts the body rows
// by that column, ascending then descending, and aria-sort says which. Cells sort by their
// data-sort value (numbers as numbers, text in Vietnamese order); empty values go last.
(function () {
  "use strict";

  function value(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }

  function compare(a, b) {
    if (a === "" && b === "") return 0;
    if (a === "") return 1;
    if (b === "") return -1;
    var x = Number(a), y = Number(b);
    if (!isNaN(x) && !isNaN(y)) return x - y;
    return a.localeCompare(b, document.documentElement.lang || "vi");
  }

  function sort(table, index, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = value(r1, index), b = value(r2, index);
      var order = compare(a, b);
      if (a === "" || b === "") return order; // empty stays last either way
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function enhance(table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sort(table, index, th); });
    });
    table.classList.add("js-sortable");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), enhance);
})();
