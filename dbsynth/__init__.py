"""dbsynth: seed relational databases with synthetic data."""
