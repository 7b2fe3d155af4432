"""Whole jobs built from the stages: review, rerun and the nightly."""
