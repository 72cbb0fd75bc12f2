"""Alpaca market data: stream clients (live or replay) and normalisation to the event schema."""
