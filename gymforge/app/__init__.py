"""The application layer: the `gymforge` command, the Python API's build-and-fit path, tune, export and the
table of algorithms. The only part that knows every algorithm."""
