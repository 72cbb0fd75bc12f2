"""Reference computations the tests compare the project's analytics with."""
