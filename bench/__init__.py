"""`make bench`: the performance figures the issues name, one JSON line each."""
