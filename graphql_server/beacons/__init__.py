"""What the beacons job computes from daily closes and fundamentals (measurement ``beacons`` in
the analytics bucket, topic ``analytics.beacons``): valuation ratios, corporate events with the
moves around them, and event studies; stored (queries on InfluxDB) and live (a subscription on
the beacons topic)."""
