"""One module per local service; each knows how to install, start and probe itself."""
