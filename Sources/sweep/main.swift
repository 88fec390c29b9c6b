print("sweep: not yet")
