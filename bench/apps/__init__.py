"""Small programs the benchmarks run as separate processes (apps, workers, clients)."""
