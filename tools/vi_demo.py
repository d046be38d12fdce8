"""Vietnamese translations of the demo branch's messages (apply with tools/fill_po.py after
`make translations`: python tools/fill_po.py tools/vi_*.py)."""

VI = {
    "Campaign %(campaign)d has no batch %(batch)d.": "Đợt khảo sát %(campaign)d không có lô phiếu %(batch)d.",
}
