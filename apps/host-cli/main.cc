// uvmbus-host: administer a running uvmbus-hostd (see host_cli.h).
#include "host_cli.h"

int main(int argc, char** argv) { return uvmbus::hostcli::run(argc, argv); }
