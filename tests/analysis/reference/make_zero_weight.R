# Reference values for zero-weight units (tests/analysis/test_honest.py) from R survey
# (Debian r-cran-survey, survey 4.1). Run from this directory:  Rscript make_zero_weight.R
# -> writes zero-weight.csv (the data) and zero-weight-ref.csv (R's results).
#
# PSU 1-3 (stratum 1) has weights that are all zero and so does every row of stratum 3:
# R's degf.survey.design2 counts only PSUs and strata with a non-zero weight, so df is
# 7 PSUs - 2 strata = 5 where counting every PSU would give 12 - 3 = 9. A few other rows
# have zero weight too; they count neither in n nor in the design effect's n.
suppressMessages(library(survey))
options(digits = 17)
set.seed(20261203)
rows <- list()
for (h in 1:3) for (p in 1:4) {
  m <- 5
  w <- rep(if (h == 3) 0 else runif(1, 20, 60), m)
  if (h == 1 && p == 3) w[] <- 0
  if (h == 2 && p == 1) w[2] <- 0
  q1 <- sample(1:5, m, replace = TRUE, prob = c(.1, .1, .2, .35, .25))
  q1[sample(m, 1)] <- if (p == 2) NA else q1[1]
  y <- round(rnorm(m, 50 + 5 * h, 10), 2)
  d <- sample(c("A", "B"), m, replace = TRUE)
  rows[[length(rows) + 1]] <- data.frame(stratum = h, psu = paste0(h, "-", p), w = w,
    q1 = q1, y = y, district = d)
}
dat <- do.call(rbind, rows)
write.csv(dat, "zero-weight.csv", row.names = FALSE, na = "")
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = dat, nest = TRUE)
df <- degf(des)
out <- list()
emit <- function(stat, domain, est, se, lo, hi, deff) {
  out[[length(out) + 1]] <<- data.frame(stat = stat, domain = domain, est = est, se = se,
    ci_low = lo, ci_high = hi, deff = deff, df = df, n = NA)
}
for (d in list(NULL, "A", "B")) {
  ok <- !is.na(des$variables$q1)
  if (!is.null(d)) ok <- ok & des$variables$district == d
  sub <- des[ok, ]
  sub$variables$.y <- as.numeric(sub$variables$q1 %in% c(4, 5))
  m <- svymean(~.y, sub, deff = TRUE)
  ci <- attr(svyciprop(~.y, sub, method = "logit", df = df), "ci")
  dom <- if (is.null(d)) "" else d
  emit("prop", dom, coef(m)[[1]], SE(m)[[1]], ci[[1]], ci[[2]], deff(m)[[1]])
  out[[length(out)]]$n <- sum(ok & weights(des) != 0)
  okm <- rep(TRUE, nrow(dat))
  if (!is.null(d)) okm <- dat$district == d
  m2 <- svymean(~y, des[okm, ], deff = TRUE)
  ci2 <- confint(m2, df = df)
  emit("mean", dom, coef(m2)[[1]], SE(m2)[[1]], ci2[1, 1], ci2[1, 2], deff(m2)[[1]])
  out[[length(out)]]$n <- sum(okm & weights(des) != 0)
}
res <- do.call(rbind, out)
res$n_design <- sum(weights(des) != 0)
res$strata_design <- length(unique(des$strata[weights(des) != 0, 1]))
res$psu_design <- length(unique(des$cluster[weights(des) != 0, 1]))
fmt <- function(x) ifelse(is.na(x), "", trimws(formatC(x, digits = 17, format = "g")))
for (k in c("est", "se", "ci_low", "ci_high", "deff")) res[[k]] <- fmt(res[[k]])
write.csv(res, "zero-weight-ref.csv", row.names = FALSE)
