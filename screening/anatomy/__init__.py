"""What the image shows: body-part gate, hand localisation and metacarpal radiogrammetry.

Pure functions on decoded pixels; no database, no object store, no TensorFlow at import.
"""
