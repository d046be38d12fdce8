# Reference values for tests/analysis from R survey (Debian r-cran-survey, survey 4.1).
# Run from this directory:  Rscript make_reference.R  -> writes reference.csv
# Every CI uses the FULL design's degrees of freedom (df = degf(design)), as the contract says.
suppressMessages(library(survey))
options(digits = 17)
api <- "/work/shared/data/api"
if (!dir.exists(api)) api <- Sys.getenv("API_DATA")
rd <- function(f) read.csv(file.path(api, f), stringsAsFactors = FALSE, check.names = TRUE)
apisrs <- rd("apisrs.csv"); apistrat <- rd("apistrat.csv"); apiclus1 <- rd("apiclus1.csv")
apiclus2 <- rd("apiclus2.csv"); apipop <- rd("apipop.csv")
sipas <- read.csv("sipas-sim.csv", stringsAsFactors = FALSE)

out <- list()
emit <- function(case, stat, var, values, domain, est, se, lo = NA, hi = NA, deff = NA) {
  out[[length(out) + 1]] <<- data.frame(case = case, stat = stat, var = var, values = values,
    domain = domain, est = est, se = se, ci_low = lo, ci_high = hi, deff = deff)
}
fmt <- function(x) ifelse(is.na(x), "", formatC(x, digits = 17, format = "g"))

# ---- proportions: every CI method, national and by domain ------------------------------
prop_all <- function(case, des, var, vals, by = NULL, level = 0.95) {
  df <- degf(des)
  doms <- if (is.null(by)) list(NULL) else as.list(sort(unique(des$variables[[by]])))
  for (d in doms) {
    ok <- !is.na(des$variables[[var]])
    if (!is.null(d)) ok <- ok & des$variables[[by]] == d
    dom <- if (is.null(d)) "" else paste0(by, "=", d)
    if (!any(ok)) { emit(case, "prop:logit", var, paste(vals, collapse = ","), dom, NA, NA); next }
    sub <- des[ok, ]
    sub$variables$.y <- as.numeric(sub$variables[[var]] %in% vals)
    m <- svymean(~.y, sub, deff = TRUE)
    p <- coef(m)[[1]]; v <- vcov(m)[1, 1]
    dom <- if (is.null(d)) "" else paste0(by, "=", d)
    vv <- paste(vals, collapse = ",")
    for (meth in c("logit", "mean", "asin", "xlogit", "likelihood")) {
      ci <- tryCatch(attr(suppressWarnings(svyciprop(~.y, sub, method = meth, df = df,
        level = level)), "ci"), error = function(e) c(NA, NA))
      emit(case, paste0("prop:", meth), var, vv, dom, p, sqrt(v), ci[[1]], ci[[2]], deff(m)[[1]])
    }
    # Korn-Graubard with the full design's df (svyciprop would use degf(subset))
    alpha <- 1 - level
    n <- sum(weights(sub, "sampling") != 0)
    neff <- p * (1 - p) / v * (qt(alpha / 2, n - 1) / qt(alpha / 2, df))^2
    ci <- c(qbeta(alpha / 2, neff * p, neff * (1 - p) + 1), qbeta(1 - alpha / 2, neff * p + 1, neff * (1 - p)))
    emit(case, "prop:beta", var, vv, dom, p, sqrt(v), ci[[1]], ci[[2]], deff(m)[[1]])
  }
}

# ---- means, totals, ratios (t CI on the full design's df) --------------------------------
tci <- function(est, se, df, level = 0.95) est + c(-1, 1) * qt(1 - (1 - level) / 2, df) * se
mean_total <- function(case, des, var, by = NULL) {
  df <- degf(des)
  doms <- if (is.null(by)) list(NULL) else as.list(sort(unique(des$variables[[by]])))
  for (d in doms) {
    ok <- !is.na(des$variables[[var]])
    if (!is.null(d)) ok <- ok & des$variables[[by]] == d
    dom <- if (is.null(d)) "" else paste0(by, "=", d)
    if (!any(ok)) { emit(case, "mean", var, "", dom, NA, NA); next }
    sub <- des[ok, ]
    f <- as.formula(paste0("~", var))
    m <- svymean(f, sub, deff = TRUE, na.rm = TRUE)
    ci <- tci(coef(m)[[1]], SE(m)[[1]], df)
    emit(case, "mean", var, "", dom, coef(m)[[1]], SE(m)[[1]], ci[1], ci[2], deff(m)[[1]])
    t <- svytotal(f, sub, deff = TRUE, na.rm = TRUE)
    ci <- tci(coef(t)[[1]], SE(t)[[1]], df)
    emit(case, "total", var, "", dom, coef(t)[[1]], SE(t)[[1]], ci[1], ci[2], deff(t)[[1]])
  }
}
ratio <- function(case, des, num, den) {
  ok <- !is.na(des$variables[[num]]) & !is.na(des$variables[[den]])
  r <- svyratio(as.formula(paste0("~", num)), as.formula(paste0("~", den)), des[ok, ])
  ci <- tci(coef(r)[[1]], SE(r)[[1]], degf(des))
  emit(case, "ratio", paste0(num, "/", den), "", "", coef(r)[[1]], SE(r)[[1]], ci[1], ci[2])
}

api_cases <- function(case, des, by = "stype") {
  message(case)
  prop_all(case, des, "sch.wide", "Yes")
  prop_all(case, des, "sch.wide", "Yes", by = by)
  prop_all(case, des, "stype", c("E", "M"))
  prop_all(case, des, "awards", "Yes", by = by)
  mean_total(case, des, "api00")
  mean_total(case, des, "api00", by = by)
  mean_total(case, des, "enroll")
  mean_total(case, des, "acs.k3", by = by)
  ratio(case, des, "api00", "api99")
}

dsrs <- svydesign(ids = ~1, weights = ~pw, fpc = ~fpc, data = apisrs)
api_cases("apisrs", dsrs)
dsrs_nofpc <- svydesign(ids = ~1, weights = ~pw, data = apisrs)
api_cases("apisrs_nofpc", dsrs_nofpc)
dstrat <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
api_cases("apistrat", dstrat, by = "awards")
dclus1 <- svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
api_cases("apiclus1", dclus1)
dclus1_wr <- svydesign(ids = ~dnum, weights = ~pw, data = apiclus1)
api_cases("apiclus1_wr", dclus1_wr)
dclus2 <- svydesign(ids = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
api_cases("apiclus2", dclus2)
dclus2_frac <- svydesign(ids = ~dnum + snum, fpc = ~I(1/fpc1) + I(1/fpc2), data = transform(apiclus2))
api_cases("apiclus2_frac", dclus2_frac)

# ---- calibration to apipop ---------------------------------------------------------------
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = as.vector(table(apipop$stype)[c("E", "H", "M")]))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = as.vector(table(apipop$sch.wide)[c("No", "Yes")]))
dclus1p <- postStratify(dclus1, ~stype, pop_types)
api_cases("apiclus1_ps", dclus1p, by = "awards")
dclus1r <- rake(dclus1, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
  control = list(epsilon = 1e-12, maxit = 1000))
api_cases("apiclus1_rake", dclus1r, by = "awards")
dstratr <- rake(dstrat, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
  control = list(epsilon = 1e-12, maxit = 1000))
api_cases("apistrat_rake", dstratr, by = "awards")
dclus2p <- postStratify(dclus2, ~stype, pop_types)
api_cases("apiclus2_ps", dclus2p, by = "awards")
dtrim <- trimWeights(dstrat, upper = 40, lower = 20)
api_cases("apistrat_trim", dtrim, by = "awards")

# ---- simulated SIPAS: stratified two-stage with missing answers ---------------------------
items <- read.csv(file.path(dirname(api), "sipas", "items-2022.csv"), stringsAsFactors = FALSE)
for (k in 1:33) {
  q <- sipas[[paste0("q", k)]]
  sipas[[paste0("r", k)]] <- as.numeric(!is.na(q))
  sipas[[paste0("y", k)]] <- ifelse(is.na(q), 0, as.numeric(q %in% c(4, 5)))
}
crit <- split(items$item, items$criterion_code)
sipas_cases <- function(case, des, with_items = TRUE) {
  df <- degf(des)
  for (d in c("", sort(unique(des$variables$district)))) {
    sub <- if (d == "") des else des[des$variables$district == d, ]
    dom <- if (d == "") "" else paste0("district=", d)
    tt <- svytotal(as.formula(paste0("~", paste0(c(paste0("y", 1:33), paste0("r", 1:33)), collapse = "+"))), sub)
    Y <- coef(tt)[1:33]; R <- coef(tt)[34:66]; VT <- vcov(tt)
    cf <- Y / R
    G <- cbind(diag(1 / R), diag(-cf / R))  # delta method = svyratio's linearization
    V <- G %*% VT %*% t(G)
    if (with_items) for (k in 1:33) {
      ci <- tci(cf[[k]], sqrt(V[k, k]), df)
      emit(case, "item", paste0("q", k), "4,5", dom, cf[[k]], sqrt(V[k, k]))
    }
    L <- list()
    for (cc in names(crit)) { v <- numeric(33); v[crit[[cc]]] <- 1 / length(crit[[cc]]); L[[cc]] <- v }
    v <- numeric(33); v[15:33] <- 1 / 19; L[["2.6"]] <- v
    L[["1"]] <- (L[["1.1"]] + L[["1.2"]] + L[["1.3"]] + L[["1.4"]]) / 4
    L[["2"]] <- L[["2.6"]]
    L[["overall"]] <- (L[["1"]] + L[["2"]]) / 2
    for (nm2 in names(L)) {
      e <- sum(L[[nm2]] * cf); s <- sqrt(drop(t(L[[nm2]]) %*% V %*% L[[nm2]]))
      ci <- tci(e, s, df)
      emit(case, "index", nm2, "", dom, e, s, ci[1], ci[2])
    }
  }
  for (k in c(1, 19, 32)) {
    prop_all(case, des, paste0("q", k), c(4, 5))
    prop_all(case, des, paste0("q", k), c(4, 5), by = "district")
  }
  mean_total(case, des, "q5", by = "district")
}
d2 <- svydesign(ids = ~psu + rid, strata = ~stratum, fpc = ~fpc1 + fpc2, weights = ~w, data = sipas, nest = TRUE)
sipas_cases("sipas2", d2)
d1 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = sipas, nest = TRUE)
sipas_cases("sipas1", d1)
pop_sex <- data.frame(sex = c("F", "M"), Freq = c(140000, 132000))
pop_age <- data.frame(age = c("18-34", "35-54", "55+"), Freq = c(84000, 118000, 70000))
d2r <- rake(d2, list(~sex, ~age), list(pop_sex, pop_age), control = list(epsilon = 1e-12, maxit = 1000))
sipas_cases("sipas2_rake", d2r)
d1p <- postStratify(d1, ~age, pop_age)
sipas_cases("sipas1_ps", d1p)

# lonely PSU: keep one commune in stratum 6
lone <- sipas[sipas$stratum != 6 | sipas$psu == "6-1", ]
for (opt in c("adjust", "average", "certainty", "remove")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc1, data = lone, nest = TRUE)
  sipas_cases(paste0("lonely_", opt), dl, with_items = FALSE)
  dl0 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = lone, nest = TRUE)
  sipas_cases(paste0("lonely_nofpc_", opt), dl0, with_items = FALSE)
}
options(survey.lonely.psu = "fail")

# differences between domains (svyby with the full covariance, then svycontrast)
for (case in c("sipas1", "apistrat")) {
  des <- if (case == "sipas1") d1 else dstrat
  if (case == "sipas1") {
    des$variables$.y <- as.numeric(des$variables$q19 %in% c(4, 5))
    sub <- des[!is.na(des$variables$q19), ]
    b <- svyby(~.y, ~district, sub, svymean, covmat = TRUE)
    lev <- paste0("D", 1:4); var <- "q19"
  } else {
    des$variables$.y <- as.numeric(des$variables$sch.wide == "Yes")
    b <- svyby(~.y, ~awards, des, svymean, covmat = TRUE)
    lev <- c("No", "Yes"); var <- "sch.wide"
  }
  for (i in 1:(length(lev) - 1)) for (j in (i + 1):length(lev)) {
    cc <- numeric(length(lev)); cc[i] <- 1; cc[j] <- -1
    k <- svycontrast(b, cc)
    emit(case, "diff", var, "", paste0(lev[i], "-", lev[j]), coef(k)[[1]], SE(k)[[1]])
  }
}

res <- do.call(rbind, out)
for (col in c("est", "se", "ci_low", "ci_high", "deff")) res[[col]] <- fmt(res[[col]])
write.csv(res, "reference.csv", row.names = FALSE)
cat("survey", as.character(packageVersion("survey")), "rows", nrow(res), "\n")
