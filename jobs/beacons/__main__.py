"""``python -m jobs.beacons [...]``, and the file ``flink run -py`` runs (as a script: the
cluster's Python has this project installed, so ``jobs`` imports)."""

from jobs.beacons.job import main

if __name__ == "__main__":
    main()
