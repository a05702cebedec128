# pragma version 0.4.3
"""
@title KuraUSD (KUSD)
@notice The dev chain's test stablecoin: a plain EIP-20 token with 6 decimals, deployed by
        devchain.ethereum at start-up (the faucet's first transaction). The faucet is its minter,
        so `dev_mintToken` is an ordinary transaction the EVM executes. A development and test
        token with no value on any chain.
@dev    Refusals revert with an Error(string) reason (what OpenZeppelin's ERC20 v4 says), so
        eth_call and eth_estimateGas answer "execution reverted: <reason>" with code 3, as geth.
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
minter: public(address)


@deploy
def __init__():
    self.name = "Kura Dev USD"
    self.symbol = "KUSD"
    self.decimals = 6
    self.minter = msg.sender


@internal
def _move(owner: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "ERC20: transfer to the zero address"
    assert self.balanceOf[owner] >= amount, "ERC20: transfer amount exceeds balance"
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
    assert self.allowance[owner][msg.sender] >= amount, "ERC20: insufficient allowance"
    self.allowance[owner][msg.sender] -= amount
    self._move(owner, receiver, amount)
    return True


@external
def mint(receiver: address, amount: uint256) -> bool:
    assert msg.sender == self.minter, "KUSD: only the minter mints"
    assert receiver != empty(address), "ERC20: mint to the zero address"
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)
    return True
