/** Vitest setup file: after each test file, remove the directories it made with tempDir(). */
import { afterAll } from 'vitest'
import { removeTempDirs } from './temp-dir.js'

afterAll(removeTempDirs)
