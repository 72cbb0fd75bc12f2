"""The parts of the currents job (``jobs/currents.py``): options, SQL, recursive indicators."""
