"""The webhook service's pure rules: event → webhook type, retry schedule, target safety."""
