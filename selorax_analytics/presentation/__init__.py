"""Pictures and controls: ``plot_*`` functions returning Axes, ``*_dashboard`` functions
returning widgets."""
