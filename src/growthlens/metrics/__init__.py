"""Engine-side analyses: every aggregation is an Ibis expression; results are small frames."""
