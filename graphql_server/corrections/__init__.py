"""Corrections of gathered bars: deleting bad bars (with an audit record of who and why) and the
recompute of the indicators that depended on them."""
