fn main() {
    std::process::exit(mimi_interop::exit::CONFORMANT);
}
