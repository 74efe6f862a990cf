"""kapcare: practice software for ketamine-assisted psychotherapy programs."""
