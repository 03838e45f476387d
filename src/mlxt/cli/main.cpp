#include <mlx/mlx.h>
#include <iostream>
int main() { auto a = mlx::core::ones({2,2}); std::cout << a << std::endl; }
