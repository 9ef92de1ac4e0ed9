"""explaining stage."""
