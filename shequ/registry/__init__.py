"""The register (一库, 一标三实): addresses, buildings, dwellings, people, households,
organisations and special-group tags — entered once and shared (最多录一次)."""
