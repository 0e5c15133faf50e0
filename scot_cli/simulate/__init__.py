"""Day-by-day simulation of a network under scot's decisions or a baseline policy."""
