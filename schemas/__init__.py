"""Versioned contracts for every message into, through and out of vroegsignaal."""
