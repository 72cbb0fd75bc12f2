"""The PyFlink jobs: ``ripples`` (trades and quotes to bars, rolling statistics and spreads)
and ``currents`` (bars to indicators and the volatility ranking). ``jobs.registry`` lists
them; ``jobs.common`` holds what they share. Each runs as ``python -m jobs.<name>`` or
``flink run -py jobs/<name>/__main__.py`` on a cluster whose Python has this project installed.
"""
