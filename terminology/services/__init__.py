"""Capabilities in one place: what the API, the command line and the Python API call.

One module per capability; the edges parse their input, call one function here and render
what it returns.
"""
