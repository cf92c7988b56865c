"""recnas.hardware: FLOPs and the ReRAM-crossbar PIM cost model (pim.md); never imports torch."""

from recnas.hardware.config import PRESETS
from recnas.hardware.config import BlockGenes
from recnas.hardware.config import HardwareGenes
from recnas.hardware.config import PIMConfig
from recnas.hardware.config import lossless_adc_bits
from recnas.hardware.config import preset
from recnas.hardware.pim import PIMCost
from recnas.hardware.pim import cost

__all__ = [
    "PRESETS",
    "BlockGenes",
    "HardwareGenes",
    "PIMConfig",
    "PIMCost",
    "cost",
    "lossless_adc_bits",
    "preset",
]
