"""The sections of the larger pages, one module per page: Streamlit drawing only, reading the glue (viz/ui/).

pages/<page>.py is the script (guard clauses, then these *_ui() sections); computations live in the pure modules.
"""
