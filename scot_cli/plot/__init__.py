"""Pictures of scot outputs: ``scot plot`` (one chart) and ``scot report`` (one HTML page).

matplotlib is imported only when a picture is drawn, so that ``scot --help`` stays fast.
"""
