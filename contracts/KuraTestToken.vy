# pragma version 0.4.3
"""
@title KuraTestToken
@notice A minimal EIP-20 token for Kura's interop tests (tests/interop/test_eth_evm.py).
        The whole supply is minted to the deployer. It exists so that signed ERC-20
        transfers can be executed by a real EVM (py-evm via eth-tester); it is not for
        any chain.
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

name: public(String[32])
symbol: public(String[8])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(supply: uint256):
    self.name = "Kura Test Token"
    self.symbol = "KTT"
    self.decimals = 6
    self.totalSupply = supply
    self.balanceOf[msg.sender] = supply
    log Transfer(sender=empty(address), receiver=msg.sender, value=supply)


@internal
def _move(owner: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "transfer to the zero address"
    # Checked arithmetic: a transfer above the balance reverts.
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._move(msg.sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    self.allowance[owner][msg.sender] -= amount
    self._move(owner, receiver, amount)
    return True
