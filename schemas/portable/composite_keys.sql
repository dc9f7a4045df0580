-- Composite PK, composite FK referencing it, and a link table whose PK is two FKs.
CREATE TABLE warehouse (
    region_code CHAR(2) NOT NULL,
    warehouse_no INTEGER NOT NULL,
    city VARCHAR(50) NOT NULL,
    PRIMARY KEY (region_code, warehouse_no)
);
CREATE TABLE bin (
    region_code CHAR(2) NOT NULL,
    warehouse_no INTEGER NOT NULL,
    bin_no INTEGER NOT NULL,
    capacity INTEGER NOT NULL,
    PRIMARY KEY (region_code, warehouse_no, bin_no),
    FOREIGN KEY (region_code, warehouse_no) REFERENCES warehouse (region_code, warehouse_no)
);
CREATE TABLE product (
    product_id INTEGER NOT NULL PRIMARY KEY,
    product_name VARCHAR(100) NOT NULL
);
CREATE TABLE bin_product (
    region_code CHAR(2) NOT NULL,
    warehouse_no INTEGER NOT NULL,
    bin_no INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES product (product_id),
    quantity INTEGER NOT NULL,
    PRIMARY KEY (region_code, warehouse_no, bin_no, product_id),
    FOREIGN KEY (region_code, warehouse_no, bin_no) REFERENCES bin (region_code, warehouse_no, bin_no)
);
