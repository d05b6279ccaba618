fn main() {
    println!("length: the command-line interface is not built yet");
}
