// The page's entry (index.html): the one module that starts the console when loaded.
import { start } from "./main";

void start();
