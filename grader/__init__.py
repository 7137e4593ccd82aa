"""dlgrade: grading and test harness for deep-learning coursework."""
