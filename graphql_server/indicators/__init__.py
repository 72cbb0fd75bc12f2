"""What the currents job computes from gathered bars (measurement ``currents`` in the analytics
bucket): indicators, crossover signals and the volatility ranking."""
