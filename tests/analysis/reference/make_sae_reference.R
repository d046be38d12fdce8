# Reference values for the Fay-Herriot model (surveyapp/analysis/sae.py), written
# independently from Rao & Molina (2015), Small Area Estimation, 2nd ed., ch. 6 (R has no
# `sae` package here). Run from this directory:  Rscript make_sae_reference.R
#   -> writes sae-reference.csv (one row per case x method x area, plus the model rows).
#
# Deliberately a different route from the Python code:
#  * sigma2_u: uniroot() on the score equation (REML: the restricted-likelihood score with the
#    projection matrix P formed explicitly; ML: the likelihood score; FH: the moment equation),
#    not Fisher scoring; truncated at 0 when the score (moment function) is <= 0 at 0.
#  * MSE terms g1, g2, g3 and the bias b written out from Rao & Molina §6.2.1:
#      g1 = A psi / (A + psi);  g2 = (1 - gamma)^2 x' (X'V^-1X)^-1 x
#      g3 = psi^2 / (A + psi)^3 * Vbar
#      REML: Vbar = 2 / sum (A+psi)^-2,  b = 0                          (Prasad-Rao; Datta-Lahiri)
#      ML:   Vbar = 2 / sum (A+psi)^-2,  b = -tr[(X'V^-1X)^-1 X'V^-2 X] / sum (A+psi)^-2
#      FH:   Vbar = 2m / (sum (A+psi)^-1)^2,
#            b = 2 [m sum (A+psi)^-2 - (sum (A+psi)^-1)^2] / (sum (A+psi)^-1)^3  (Datta-Rao-Smith)
#      mse = g1 + g2 + 2 g3 - (1 - gamma)^2 b
#  * out of sample: theta = x'beta, mse = A + x' (X'V^-1X)^-1 x.
options(digits = 17)
fmt <- function(x) ifelse(is.na(x), "", formatC(x, digits = 17, format = "g"))

fit <- function(y, X, psi, method) {
  m <- length(y); p <- ncol(X)
  gls <- function(A) {
    Vi <- diag(1 / (A + psi))
    Q <- solve(t(X) %*% Vi %*% X)
    beta <- Q %*% t(X) %*% Vi %*% y
    list(Vi = Vi, Q = Q, beta = drop(beta), r = drop(y - X %*% beta))
  }
  score <- switch(method,
    reml = function(A) {
      g <- gls(A)
      P <- g$Vi - g$Vi %*% X %*% g$Q %*% t(X) %*% g$Vi
      -0.5 * sum(diag(P)) + 0.5 * drop(t(y) %*% P %*% P %*% y)
    },
    ml = function(A) {
      g <- gls(A)
      -0.5 * sum(1 / (A + psi)) + 0.5 * sum(g$r^2 / (A + psi)^2)
    },
    fh = function(A) {
      g <- gls(A)
      sum(g$r^2 / (A + psi)) - (m - p)
    })
  if (score(0) <= 0) {
    A <- 0
  } else {
    hi <- max(var(y), median(psi))
    while (score(hi) > 0) hi <- 2 * hi
    A <- uniroot(score, c(0, hi), tol = 1e-15 * hi, maxiter = 1000)$root
  }
  g <- gls(A)
  v <- A + psi
  gamma <- A / v
  if (method == "fh") {
    s1 <- sum(1 / v); s2 <- sum(1 / v^2)
    Vbar <- 2 * m / s1^2
    b <- 2 * (m * s2 - s1^2) / s1^3
  } else {
    Vbar <- 2 / sum(1 / v^2)
    b <- if (method == "ml") -sum(diag(g$Q %*% t(X) %*% diag(1 / v^2) %*% X)) / sum(1 / v^2) else 0
  }
  g1 <- A * psi / v
  g2 <- (1 - gamma)^2 * rowSums((X %*% g$Q) * X)
  g3 <- psi^2 / v^3 * Vbar
  list(A = A, beta = g$beta, beta_se = sqrt(diag(g$Q)), Q = g$Q, gamma = gamma,
       eblup = gamma * y + (1 - gamma) * drop(X %*% g$beta),
       mse = g1 + g2 + 2 * g3 - (1 - gamma)^2 * b)
}

out <- list()
run_case <- function(case, d, area, covs) {
  inside <- !is.na(d$estimate)
  Xall <- cbind(1, as.matrix(d[, covs, drop = FALSE]))
  for (method in c("reml", "ml", "fh")) {
    f <- fit(d$estimate[inside], Xall[inside, , drop = FALSE], d$se[inside]^2, method)
    out[[length(out) + 1]] <<- data.frame(case = case, method = method, area = "",
      what = c("sigma2_u", paste0("beta", seq_along(f$beta) - 1),
               paste0("beta_se", seq_along(f$beta) - 1)),
      value = c(f$A, f$beta, f$beta_se), stringsAsFactors = FALSE)
    eb <- rep(NA, nrow(d)); ms <- rep(NA, nrow(d)); ga <- rep(NA, nrow(d))
    eb[inside] <- f$eblup; ms[inside] <- f$mse; ga[inside] <- f$gamma
    eb[!inside] <- drop(Xall[!inside, , drop = FALSE] %*% f$beta)
    ms[!inside] <- f$A + rowSums((Xall[!inside, , drop = FALSE] %*% f$Q) * Xall[!inside, , drop = FALSE])
    for (w in c("eblup", "mse", "gamma")) {
      val <- switch(w, eblup = eb, mse = ms, gamma = ga)
      out[[length(out) + 1]] <<- data.frame(case = case, method = method,
        area = as.character(d[[area]]), what = w, value = val, stringsAsFactors = FALSE)
    }
  }
}

api <- read.csv("sae-api.csv", stringsAsFactors = FALSE, na.strings = "")
flat <- read.csv("sae-flat.csv", stringsAsFactors = FALSE, encoding = "UTF-8")
run_case("api:meals+ell", api, "county", c("meals", "ell"))
run_case("api:none", api, "county", character(0))
run_case("flat:online", flat, "commune", c("online"))

res <- do.call(rbind, out)
res$value <- fmt(res$value)
write.csv(res, "sae-reference.csv", row.names = FALSE, quote = TRUE, fileEncoding = "UTF-8")
cat("wrote", nrow(res), "rows\n")
