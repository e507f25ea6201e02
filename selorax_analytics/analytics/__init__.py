"""What a marketer asks of the frames: RFM segments, cohorts, guest conversion and customer
value. Pure functions over the typed frames of :mod:`selorax_analytics.schema`."""
