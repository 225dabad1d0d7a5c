"""Admin for messages and the composer."""
