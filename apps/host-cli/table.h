// Aligned text tables for uvmbus-host: a header row, then rows of cells,
// each column as wide as its widest cell, columns two spaces apart.
#pragma once

#include <string>
#include <vector>

namespace uvmbus::hostcli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : rows_{std::move(headers)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // the first is the header
};

}  // namespace uvmbus::hostcli
