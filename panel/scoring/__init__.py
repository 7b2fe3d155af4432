"""Pure scoring: verdicts to panel scores, trust, agreement and calibration."""
