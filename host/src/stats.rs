//! Percentiles, for sizing's counters and validate's timings alike.

/// The `p`th percentile (0–100) of `values`, interpolated between ranks (Excel's
/// PERCENTILE.INC, as Microsoft's SKU recommender reports them); 0 when there are none.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p.clamp(0.0, 100.0) / 100.0) * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_interpolate_between_ranks() {
        let v = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(super::percentile(&v, 0.0), 10.0);
        assert_eq!(super::percentile(&v, 50.0), 30.0);
        assert_eq!(super::percentile(&v, 95.0), 48.0);
        assert_eq!(super::percentile(&v, 100.0), 50.0);
        assert_eq!(
            super::percentile(&[50.0, 10.0, 40.0, 20.0, 30.0], 50.0),
            30.0
        );
        assert_eq!(super::percentile(&[7.0], 95.0), 7.0);
        assert_eq!(super::percentile(&[], 95.0), 0.0);
    }
}
