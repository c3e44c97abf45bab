print("muster-bench-launcher: arrives with the Launcher issue")
