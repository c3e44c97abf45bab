print("muster-bench-poller: arrives with the Poller issue")
