"""How a recipient's address is shown: masked (138****8000, z***@example.cn), never whole."""


def mask(address: str) -> str:
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if address.startswith(("http://", "https://")):
        return address.split("//", 1)[1].split("/", 1)[0]
    digits = "".join(ch for ch in address if ch.isdigit())
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "****"
