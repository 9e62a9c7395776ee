rtl/common/ks_delay.sv
rtl/common/ks_fifo.sv
rtl/matrix/ks_mac_cell.sv
rtl/matrix/ks_systolic_array.sv
rtl/matrix/ks_matrix_unit.sv
