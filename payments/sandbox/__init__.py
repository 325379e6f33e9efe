"""The sandbox payment gateway: a separate HTTP process behaving like a hosted-checkout gateway."""
