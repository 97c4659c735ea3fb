# metafor on exactly the work of metabook's criterion benchmark (benches/pool.rs).
#
#   Rscript bench/metafor.R              run all cases; TSV on stdout: case<TAB>seconds<TAB>note
#   Rscript bench/metafor.R --data K F   print studies(K, F) as CSV study,yi,vi (%.17g, exact)
#   Rscript bench/metafor.R --bits K F   print the IEEE bits of yi and vi of studies(K, F), in hex
#   Rscript bench/metafor.R --single K   time one analysis of studies(K, 0); print seconds
#
# One analysis = what `metabook pool --method REML` computes: rma(yi, vi, method = "REML")
# (tau², pooled estimate and test, Q, I², H²) + confint() (Q-profile CIs for tau², I², H²)
# + predict() (prediction interval). Times are wall-clock medians over repetitions.
#
# Environment: METAFOR_REPS_SMALL (k = 10, default 200), METAFOR_REPS_MANY (10^4 analyses,
# default 3), METAFOR_TIMEOUT (seconds for the single k = 10^4 attempt, default 600; 0 skips it).
# Progress goes to stderr.

suppressPackageStartupMessages(library(metafor))

# --- data: studies(k, first) of benches/pool.rs -------------------------------------------
# Weyl sequences u = frac(i * a). `%%` by 1 is exact in R as `%` is in Rust, sqrt() is
# correctly rounded in both, and the products and sums are the same IEEE operations in the
# same order, so the values agree to the last bit. bench/run.sh checks this on every run
# against benches/pool.rs's own studies() (--bits below) and stops if they differ.
A <- 0.6180339887498949 # golden ratio - 1
B <- 0.4142135623730951 # sqrt(2) - 1
C <- 0.7320508075688772 # sqrt(3) - 1

studies <- function(k, first = 0) {
  i <- as.numeric(seq(first + 1, first + k)) # Rust: (i + 1) as f64 for i in first..first+k
  s12 <- sqrt(12)
  vi <- 0.01 + 0.2 * ((i * A) %% 1)
  # vi = 0.01 + 0.2 u_A; yi = 0.3 + 0.3 sqrt(12) (u_B - 1/2) + sqrt(vi) sqrt(12) (u_C - 1/2)
  yi <- 0.3 + 0.3 * s12 * ((i * B) %% 1 - 0.5) + sqrt(vi) * s12 * ((i * C) %% 1 - 0.5)
  list(yi = yi, vi = vi)
}

# --- one analysis ----------------------------------------------------------------------------
# metafor's Fisher scoring (default stepadj = 1, maxiter = 100) can oscillate and fail
# ("did not converge") on small data sets; we then do what help(rma) suggests, refit with
# stepadj = 0.5, and count the refits. The failed attempt is part of the measured time.
refits <- 0L
analysis <- function(d) {
  fit <- tryCatch(rma(d$yi, d$vi, method = "REML"), error = function(e) NULL)
  if (is.null(fit)) {
    refits <<- refits + 1L
    fit <- rma(d$yi, d$vi, method = "REML", control = list(stepadj = 0.5))
  }
  list(fit = fit, ci = confint(fit), pred = predict(fit))
}

now <- if (requireNamespace("bench", quietly = TRUE)) {
  function() as.numeric(bench::hires_time())
} else {
  function() proc.time()[["elapsed"]]
}
time_it <- function(f) {
  t0 <- now()
  f()
  now() - t0
}
say <- function(...) message(sprintf(...))
env_num <- function(name, default) {
  v <- Sys.getenv(name, "")
  if (v == "") default else as.numeric(v)
}
row <- function(case, seconds, note) {
  cat(case, if (is.na(seconds)) "NA" else sprintf("%.6g", seconds), note, sep = "\t")
  cat("\n")
}

args <- commandArgs(trailingOnly = TRUE)

if (length(args) >= 1 && args[1] == "--data") {
  k <- as.numeric(args[2]); first <- if (length(args) >= 3) as.numeric(args[3]) else 0
  d <- studies(k, first)
  cat("study,yi,vi\n")
  cat(sprintf("s%d,%.17g,%.17g", seq_len(k) + first, d$yi, d$vi), sep = "\n")
  quit(status = 0)
}

if (length(args) >= 1 && args[1] == "--bits") {
  d <- studies(as.numeric(args[2]), as.numeric(args[3]))
  hex <- function(x) { # big-endian bytes of each double, 16 hex digits per value
    m <- matrix(as.character(writeBin(x, raw(), endian = "big")), nrow = 8)
    do.call(paste0, lapply(1:8, function(b) m[b, ]))
  }
  writeLines(paste(hex(d$yi), hex(d$vi)))
  quit(status = 0)
}

if (length(args) >= 1 && args[1] == "--single") {
  d <- studies(as.numeric(args[2]), 0)
  t <- time_it(function() analysis(d))
  cat(sprintf("%.6g\n", t))
  quit(status = 0)
}

reps_small <- env_num("METAFOR_REPS_SMALL", 200)
reps_many <- env_num("METAFOR_REPS_MANY", 3)
timeout <- env_num("METAFOR_TIMEOUT", 600)

cat("case\tseconds\tnote\n")

# --- reml/10 -----------------------------------------------------------------------------
d10 <- studies(10, 0)
r10 <- analysis(d10)
say("k = 10: tau2 = %.10g, estimate = %.10g (se %.10g), Q = %.10g, I2 = %.6g%%, tau2 CI [%.6g, %.6g], PI [%.6g, %.6g]",
    r10$fit$tau2, c(r10$fit$beta), r10$fit$se, r10$fit$QE, r10$fit$I2,
    r10$ci$random["tau^2", "ci.lb"], r10$ci$random["tau^2", "ci.ub"], r10$pred$pi.lb, r10$pred$pi.ub)
for (w in 1:10) analysis(d10) # warm-up
t <- vapply(seq_len(reps_small), function(r) time_it(function() analysis(d10)), numeric(1))
row("reml/10", median(t), sprintf("median of %d runs", reps_small))
say("reml/10: median %.4g s", median(t))

# --- reml/10000: one guarded attempt in a child process under `timeout` ---------------------
# rma.uni works with dense k x k matrices (W, P, P %*% P: O(k^3) with the BLAS R links).
kbig <- 10000
need_gb <- 6 * kbig^2 * 8 / 1e9 # a handful of k x k doubles alive at once
avail_gb <- tryCatch({
  m <- readLines("/proc/meminfo")
  as.numeric(sub("^MemAvailable: *([0-9]+) kB$", "\\1", grep("^MemAvailable:", m, value = TRUE))) / 1e6
}, error = function(e) NA_real_, warning = function(w) NA_real_)
# For scale: one analysis at k = 1000 (about a minute or less with the reference BLAS).
t1000 <- time_it(function() analysis(studies(1000, 0)))
say("k = 1000 (for scale): %.3g s", t1000)
est <- t1000 * 1000 # O(k^3)
scale_note <- sprintf("k = 1000 took %.3g s, so k = 10^4 (time O(k^3)) would take about %s", t1000,
                      if (est < 7200) sprintf("%.0f min", est / 60) else sprintf("%.1f h", est / 3600))
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
if (timeout <= 0) {
  row("reml/10000", NA, sprintf("not attempted (METAFOR_TIMEOUT=0); %s", scale_note))
} else if (!nzchar(Sys.which("timeout")) || length(script) != 1) {
  row("reml/10000", NA, sprintf("not attempted (no `timeout` command to cap it); %s", scale_note))
} else if (!is.na(avail_gb) && avail_gb < need_gb) {
  row("reml/10000", NA, sprintf("not attempted: needs ~%.0f GB for k x k matrices, %.1f GB available; %s", need_gb, avail_gb, scale_note))
} else {
  say("reml/10000: one attempt, capped at %g s ...", timeout)
  rscript <- file.path(R.home("bin"), "Rscript")
  started <- now()
  out <- suppressWarnings(system2("timeout", c("--kill-after=10", timeout, shQuote(rscript), shQuote(script), "--single", kbig),
                                  stdout = TRUE, stderr = FALSE))
  waited <- now() - started
  status <- attr(out, "status")
  if (is.null(status) && length(out) >= 1 && !is.na(suppressWarnings(as.numeric(tail(out, 1))))) {
    row("reml/10000", as.numeric(tail(out, 1)), "one run")
  } else if (!is.null(status) && status %in% c(124, 137)) {
    row("reml/10000", NA, sprintf("did not finish within the %g s cap (one attempt, stopped); %s", timeout, scale_note))
  } else {
    row("reml/10000", NA, sprintf("failed after %.0f s (exit status %s); %s", waited, format(status), scale_note))
  }
  say("reml/10000: done after %.0f s", waited)
}

# --- reml/1000000: not attempted ---------------------------------------------------------------
# Confirm from the installed metafor that rma.uni still builds a dense diagonal weight matrix.
dense <- any(grepl("diag(wi, nrow = k, ncol = k)", deparse(metafor::rma.uni), fixed = TRUE))
row("reml/1000000", NA, if (dense) {
  "not feasible: rma.uni builds k x k matrices (8 TB at k = 10^6), e.g. W <- diag(wi, nrow = k, ncol = k)"
} else {
  "not attempted: O(k^2) memory in metafor (rma.uni source changed; recheck)"
})

# --- many/10000 analyses of k=10 -------------------------------------------------------------
sets <- lapply(0:9999, function(j) studies(10, 10 * j)) # prebuilt, as in the Rust benchmark
refits <- 0L
t <- vapply(seq_len(reps_many), function(r) {
  tt <- time_it(function() for (d in sets) analysis(d))
  say("many: run %d of %d: %.3g s", r, reps_many, tt)
  tt
}, numeric(1))
nrefit <- as.integer(refits / reps_many)
row("many/10000 analyses of k=10", median(t), paste0(
  sprintf("median of %d runs; ", reps_many),
  if (nrefit == 0) "all 10000 fits converged with metafor's defaults"
  else sprintf("%d of 10000 fits did not converge with metafor's defaults and were refitted with stepadj = 0.5", nrefit)))
