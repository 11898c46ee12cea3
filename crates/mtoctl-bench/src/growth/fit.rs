//! Least-squares fits of a measurement against size: a straight line `y = a + b·x`, and a power
//! law `y = c·x^k` (a straight line on log-log axes), each with its R² on the measured values
//! (not on their logarithms, so the two compare), and which of the two fits better.
//!
//! The exponent `k` says how the measurement grows: 1 linearly, less when a fixed cost (process
//! start, round trips) still dominates, more when something is super-linear.

use serde::Serialize;

/// Both fits of one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fit {
    /// Intercept of the line.
    pub linear_a: f64,
    /// Slope of the line (per unit of x).
    pub linear_b: f64,
    /// R² of the line.
    pub linear_r2: f64,
    /// Factor of the power law.
    pub power_c: f64,
    /// Exponent of the power law.
    pub power_k: f64,
    /// R² of the power law, on the measured values.
    pub power_r2: f64,
}

impl Fit {
    /// `"linear"` or `"power"`: the fit with the larger R².
    pub fn better(&self) -> &'static str {
        if self.power_r2 > self.linear_r2 {
            "power"
        } else {
            "linear"
        }
    }
}

/// Slope and intercept of the least-squares line through `(x, y)`.
fn line(xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let b = if sxx == 0.0 { 0.0 } else { sxy / sxx };
    (my - b * mx, b)
}

/// R² of predictions `f(x)` against `ys`.
fn r2(xs: &[f64], ys: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let my = ys.iter().sum::<f64>() / ys.len() as f64;
    let tot: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let res: f64 = xs.iter().zip(ys).map(|(x, y)| (y - f(*x)).powi(2)).sum();
    if tot == 0.0 { 1.0 } else { 1.0 - res / tot }
}

/// Both fits of `points` (x, y); `None` with fewer than two points or a non-positive value
/// (the power law needs logarithms).
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    if points.len() < 2 || points.iter().any(|&(x, y)| x <= 0.0 || y <= 0.0) {
        return None;
    }
    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let (a, b) = line(&xs, &ys);
    let lx: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let ly: Vec<f64> = ys.iter().map(|y| y.ln()).collect();
    let (lc, k) = line(&lx, &ly);
    let c = lc.exp();
    Some(Fit {
        linear_a: a,
        linear_b: b,
        linear_r2: r2(&xs, &ys, |x| a + b * x),
        power_c: c,
        power_k: k,
        power_r2: r2(&xs, &ys, |x| c * x.powf(k)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_found_and_preferred() {
        let f = fit(&[(1.0, 3.0), (10.0, 21.0), (50.0, 101.0), (100.0, 201.0)]).expect("fits");
        assert!((f.linear_a - 1.0).abs() < 1e-9 && (f.linear_b - 2.0).abs() < 1e-9);
        assert!((f.linear_r2 - 1.0).abs() < 1e-12);
        assert_eq!(f.better(), "linear");
    }

    #[test]
    fn a_power_law_is_found_and_preferred() {
        let pts: Vec<(f64, f64)> = [1.0, 10.0, 50.0, 100.0]
            .iter()
            .map(|&x: &f64| (x, 0.5 * x.powf(1.5)))
            .collect();
        let f = fit(&pts).expect("fits");
        assert!((f.power_k - 1.5).abs() < 1e-9 && (f.power_c - 0.5).abs() < 1e-9);
        assert!(f.power_r2 > f.linear_r2);
        assert_eq!(f.better(), "power");
    }

    #[test]
    fn too_few_or_non_positive_points_do_not_fit() {
        assert_eq!(fit(&[(1.0, 1.0)]), None);
        assert_eq!(fit(&[(1.0, 1.0), (2.0, 0.0)]), None);
    }
}
