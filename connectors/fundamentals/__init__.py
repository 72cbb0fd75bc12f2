"""``streamlines gather fundamentals``: fundamentals (the S&P 500's monthly series, earnings
announcements, dividends and splits, users' own files) into Kafka and InfluxDB."""
